package storage

import (
	cstorage "go.podman.io/storage"
)

// CheckReport is containers/storage's: damaged layers, images and
// containers, each with what is wrong.
type CheckReport = cstorage.CheckReport

// Check looks for damage in the store: quick leaves out the layers'
// digests (reading every layer's content).
func (s *Store) Check(quick bool) (CheckReport, error) {
	o := cstorage.CheckMost()
	if quick {
		o.LayerDigests = false
	}
	r, err := s.cs.Check(o)
	return r, Err(err)
}

// Repair removes what report found damaged; containers of damaged layers
// go too with removeContainers.
func (s *Store) Repair(report CheckReport, removeContainers bool) []error {
	return s.cs.Repair(report, &cstorage.RepairOptions{RemoveContainers: removeContainers})
}

// ContainerExists reports whether the store has a record of container id.
func (s *Store) ContainerExists(id string) bool {
	_, err := s.cs.Container(id)
	return err == nil
}

// AddContainersOfDamagedLayers adds to report the containers whose layer
// it found damaged (containers/storage reports a layer, not the container
// on it, when the layer's directory is gone), so that a repair removes them
// before the layer.
func (s *Store) AddContainersOfDamagedLayers(report *CheckReport) error {
	cs, err := s.cs.Containers()
	if err != nil {
		return Err(err)
	}
	for _, c := range cs {
		if errs, ok := report.Layers[c.LayerID]; ok {
			if report.Containers == nil {
				report.Containers = map[string][]error{}
			}
			report.Containers[c.ID] = append(report.Containers[c.ID], errs...)
		}
	}
	return nil
}
