package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/containerd/errdefs"
)

// Network is one row of the networks table.
type Network struct {
	ID      string
	Name    string
	Created time.Time
	Config  []byte // JSON, opaque here
}

// EnsureNetwork inserts n unless a network of its name exists, and
// returns the row that is there (n, or the one another process made).
func (d *DB) EnsureNetwork(ctx context.Context, n Network) (Network, error) {
	var out Network
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO networks (id, name, created, config) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
			n.ID, n.Name, unixNano(n.Created), string(n.Config)); err != nil {
			return err
		}
		var created int64
		var cfg string
		if err := tx.QueryRowContext(ctx, "SELECT id, name, created, config FROM networks WHERE name = ?", n.Name).
			Scan(&out.ID, &out.Name, &created, &cfg); err != nil {
			return err
		}
		out.Created, out.Config = fromNano(created), []byte(cfg)
		return nil
	})
	return out, err
}

// AllocateAddress gives container an address of network in subnet, never
// one another container holds there: want if it is set (errdefs.ErrConflict
// when taken), else the lowest free one of pool (the subnet when invalid:
// --ip-range narrows it). The network and broadcast addresses and the
// gateway are never given. It replaces the address the container held on
// network before (stale, as AllocatePorts says).
func (d *DB) AllocateAddress(ctx context.Context, network, container string, subnet, pool netip.Prefix, gateway, want netip.Addr) (netip.Addr, error) {
	if !pool.IsValid() {
		pool = subnet
	}
	var got netip.Addr
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM ip_allocations WHERE network_id = ? AND container_id = ?", network, container); err != nil {
			return err
		}
		if want.IsValid() {
			if !usable(subnet, gateway, want) {
				return fmt.Errorf("address %s is not a usable address of subnet %s: %w", want, subnet, errdefs.ErrInvalidArgument)
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO ip_allocations (network_id, address, container_id) VALUES (?, ?, ?)", network, want.String(), container)
			if isUnique(err) {
				return fmt.Errorf("address %s is already in use on this network: %w", want, errdefs.ErrConflict)
			}
			got = want
			return err
		}
		taken := map[netip.Addr]bool{}
		rows, err := tx.QueryContext(ctx, "SELECT address FROM ip_allocations WHERE network_id = ?", network)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s string
			if rows.Scan(&s) == nil {
				if a, err := netip.ParseAddr(s); err == nil {
					taken[a] = true
				}
			}
		}
		rows.Close()
		for a := pool.Masked().Addr(); pool.Contains(a); a = a.Next() {
			if taken[a] || !usable(subnet, gateway, a) {
				continue
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO ip_allocations (network_id, address, container_id) VALUES (?, ?, ?)", network, a.String(), container); err != nil {
				return err
			}
			got = a
			return nil
		}
		return fmt.Errorf("no free address is left in %s: remove containers or use a larger subnet: %w", pool, errdefs.ErrResourceExhausted)
	})
	return got, err
}

// usable: in subnet, not its network or broadcast address, not the gateway.
func usable(subnet netip.Prefix, gateway, a netip.Addr) bool {
	if !subnet.Contains(a) || a == gateway || a == subnet.Masked().Addr() {
		return false
	}
	return a.Next().IsValid() && subnet.Contains(a.Next()) // the last address is the broadcast
}

// PortAllocation is one published host port.
type PortAllocation struct {
	HostIP        string // "" for every address
	HostPort      int
	Protocol      string
	ContainerPort int
}

// AllocatePorts records container's host ports in one transaction: all or
// none. A port that another container holds on the same address, or on
// every address, is errdefs.ErrConflict naming it. They replace what the
// container held before: a start allocates, and what an earlier run of
// the container holds is stale (a failed start whose clean-up has not run
// yet), not a conflict with itself.
func (d *DB) AllocatePorts(ctx context.Context, container string, ports []PortAllocation) error {
	if len(ports) == 0 {
		return nil
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM port_allocations WHERE container_id = ?", container); err != nil {
			return err
		}
		for _, p := range ports {
			var holder string
			err := tx.QueryRowContext(ctx, `SELECT container_id FROM port_allocations
				WHERE host_port = ? AND protocol = ? AND (host_ip = ? OR host_ip = '' OR ? = '') LIMIT 1`,
				p.HostPort, p.Protocol, p.HostIP, p.HostIP).Scan(&holder)
			if err == nil {
				return portTaken(p, holder)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			_, err = tx.ExecContext(ctx, "INSERT INTO port_allocations (host_ip, host_port, protocol, container_id, container_port) VALUES (?, ?, ?, ?, ?)",
				p.HostIP, p.HostPort, p.Protocol, container, p.ContainerPort)
			if isUnique(err) {
				return portTaken(p, "")
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func portTaken(p PortAllocation, holder string) error {
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	by := ""
	if holder != "" {
		by = " by container " + holder[:min(12, len(holder))]
	}
	return fmt.Errorf("bind for %s:%d/%s failed: port is already allocated%s: %w", ip, p.HostPort, p.Protocol, by, errdefs.ErrConflict)
}

// ContainerPorts are container's host ports, in the order published.
func (d *DB) ContainerPorts(ctx context.Context, container string) ([]PortAllocation, error) {
	all, err := d.ports(ctx, "WHERE container_id = ?", container)
	return all[container], err
}

// AllPorts are every container's host ports, by container ID.
func (d *DB) AllPorts(ctx context.Context) (map[string][]PortAllocation, error) {
	return d.ports(ctx, "")
}

func (d *DB) ports(ctx context.Context, where string, args ...any) (map[string][]PortAllocation, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT container_id, host_ip, host_port, protocol, container_port FROM port_allocations "+where+" ORDER BY rowid", args...)
	if err != nil {
		return nil, d.fail("reading ports", err)
	}
	defer rows.Close()
	out := map[string][]PortAllocation{}
	for rows.Next() {
		var id string
		var p PortAllocation
		if err := rows.Scan(&id, &p.HostIP, &p.HostPort, &p.Protocol, &p.ContainerPort); err != nil {
			return nil, err
		}
		out[id] = append(out[id], p)
	}
	return out, rows.Err()
}

// ContainerAddresses are container's addresses, by network ID.
func (d *DB) ContainerAddresses(ctx context.Context, container string) (map[string]netip.Addr, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT network_id, address FROM ip_allocations WHERE container_id = ?", container)
	if err != nil {
		return nil, d.fail("reading addresses", err)
	}
	defer rows.Close()
	out := map[string]netip.Addr{}
	for rows.Next() {
		var n, a string
		if err := rows.Scan(&n, &a); err != nil {
			return nil, err
		}
		if addr, err := netip.ParseAddr(a); err == nil {
			out[n] = addr
		}
	}
	return out, rows.Err()
}

// AllAddresses are every container's addresses, by container ID and
// network ID.
func (d *DB) AllAddresses(ctx context.Context) (map[string]map[string]netip.Addr, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT container_id, network_id, address FROM ip_allocations")
	if err != nil {
		return nil, d.fail("reading addresses", err)
	}
	defer rows.Close()
	out := map[string]map[string]netip.Addr{}
	for rows.Next() {
		var c, n, a string
		if err := rows.Scan(&c, &n, &a); err != nil {
			return nil, err
		}
		if addr, err := netip.ParseAddr(a); err == nil {
			if out[c] == nil {
				out[c] = map[string]netip.Addr{}
			}
			out[c][n] = addr
		}
	}
	return out, rows.Err()
}

// ReleaseNetwork frees container's ports and addresses.
func (d *DB) ReleaseNetwork(ctx context.Context, container string) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM port_allocations WHERE container_id = ?", container); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM ip_allocations WHERE container_id = ?", container)
		return err
	})
}

// ReleaseAddress frees container's address on one network (a network
// disconnect of a running container).
func (d *DB) ReleaseAddress(ctx context.Context, network, container string) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM ip_allocations WHERE network_id = ? AND container_id = ?", network, container)
		return err
	})
}

// CreateNetwork inserts a network; a name already taken is
// errdefs.ErrConflict.
func (d *DB) CreateNetwork(ctx context.Context, n Network) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO networks (id, name, created, config) VALUES (?, ?, ?, ?)",
			n.ID, n.Name, unixNano(n.Created), string(n.Config))
		if isUnique(err) {
			return fmt.Errorf("network with name %s already exists: %w", n.Name, errdefs.ErrConflict)
		}
		return err
	})
}

// Networks are every network, oldest first.
func (d *DB) Networks(ctx context.Context) ([]Network, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT id, name, created, config FROM networks ORDER BY created, name")
	if err != nil {
		return nil, d.fail("reading networks", err)
	}
	defer rows.Close()
	var out []Network
	for rows.Next() {
		var n Network
		var created int64
		var cfg string
		if err := rows.Scan(&n.ID, &n.Name, &created, &cfg); err != nil {
			return nil, err
		}
		n.Created, n.Config = fromNano(created), []byte(cfg)
		out = append(out, n)
	}
	return out, rows.Err()
}

// DeleteNetwork removes a network (its addresses go with it).
func (d *DB) DeleteNetwork(ctx context.Context, id string) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM networks WHERE id = ?", id)
		return err
	})
}

// NetworkAddresses are the addresses given on a network, by container ID.
func (d *DB) NetworkAddresses(ctx context.Context, network string) (map[string]netip.Addr, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT container_id, address FROM ip_allocations WHERE network_id = ?", network)
	if err != nil {
		return nil, d.fail("reading addresses", err)
	}
	defer rows.Close()
	out := map[string]netip.Addr{}
	for rows.Next() {
		var c, a string
		if err := rows.Scan(&c, &a); err != nil {
			return nil, err
		}
		if addr, err := netip.ParseAddr(a); err == nil {
			out[c] = addr
		}
	}
	return out, rows.Err()
}
