package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// TestAPIGoClient: the moby Go client negotiates down to 1.44 and lists
// containers and events through the shim.
func TestAPIGoClient(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		since := fmt.Sprint(time.Now().Unix() - 1)
		s.Run("create", "--name", "gocli", "--label", "e2e.api=go", image, "true").MustSucceed(t)
		a := startService(t, s, "--time", "0")
		cli, err := client.New(client.WithHost("unix://"+a.sock), client.WithAPIVersionNegotiation())
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ping, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		if err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if ping.APIVersion != "1.44" || ping.OSType != "linux" || cli.ClientVersion() != "1.44" {
			t.Errorf("Ping: API %q, OS %q, negotiated %q; want 1.44, linux, 1.44", ping.APIVersion, ping.OSType, cli.ClientVersion())
		}
		list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", "e2e.api=go")})
		if err != nil {
			t.Fatalf("ContainerList: %v", err)
		}
		if len(list.Items) != 1 || list.Items[0].Names[0] != "/gocli" || list.Items[0].Image != image || string(list.Items[0].State) != "created" {
			t.Errorf("ContainerList: %+v", list.Items)
		}
		if list, err := cli.ContainerList(ctx, client.ContainerListOptions{}); err != nil || len(list.Items) != 0 {
			t.Errorf("ContainerList without All: %+v, %v; want none running", list.Items, err)
		}
		res := cli.Events(ctx, client.EventsListOptions{Since: since, Until: fmt.Sprint(time.Now().Unix() + 1),
			Filters: make(client.Filters).Add("container", "gocli")})
		var actions []string
	loop:
		for {
			select {
			case m := <-res.Messages:
				actions = append(actions, string(m.Action))
			case err := <-res.Err:
				if err != nil && err.Error() != "EOF" {
					t.Errorf("Events: %v", err)
				}
				break loop
			}
		}
		if len(actions) != 1 || actions[0] != "create" {
			t.Errorf("Events: %q, want [create]", actions)
		}
	})
}
