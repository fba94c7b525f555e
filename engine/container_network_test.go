package engine

import (
	"reflect"
	"testing"
)

// Records written before endpoints keep their one network; today's records
// are read as written, an empty list (all disconnected) included.
func TestLegacyEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name, mode, config string
		want               []Endpoint
	}{
		{"default bridge", "bridge", `{"network":{"ip_address":"172.17.0.9","mac_address":"02:42:ac:11:00:09"}}`,
			[]Endpoint{{IPAddress: "172.17.0.9", MacAddress: "02:42:ac:11:00:09"}}},
		{"user network", "front", `{"network":{"network_id":"abc","dns_server":"10.89.0.1","aliases":["www"]}}`,
			[]Endpoint{{NetworkID: "abc", DNSServer: "10.89.0.1", Aliases: []string{"www"}}}},
		{"default bridge, nothing set", "bridge", `{"network":{}}`, []Endpoint{{}}},
		{"disconnected from all", "bridge", `{"network":{"endpoints":null}}`, nil},
		{"slirp4netns", "slirp4netns", `{"network":{}}`, nil},
		{"none", "none", `{"network":{}}`, nil},
		{"container", "container:abc", `{"network":{}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := legacyEndpoints([]byte(tc.config), tc.mode); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("legacyEndpoints(%s, %s) = %+v, want %+v", tc.config, tc.mode, got, tc.want)
			}
		})
	}
}
