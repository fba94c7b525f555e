package e2e

import "testing"

// What a registry answers decides the message and the exit status: the
// registry's error codes, not the wording of containers/image's errors.
func TestImagePullErrors(t *testing.T) {
	t.Parallel()
	img := Busybox(t)
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		reg := SharedRegistry(t)
		repo := Repo(t)
		PushImage(t, reg, repo, "1", img)
		auth := StartRegistry(t, RegistryOptions{TLS: true, Auth: true})
		PushImage(t, auth, repo, "1", img)
		s.WriteRegistriesConf(InsecureRegistry(reg.Host))
		for _, tc := range []struct {
			args []string
			msg  string
		}{
			{[]string{"pull", reg.Host + "/" + repo + ":nope"}, "image not found in registry " + reg.Host},
			{[]string{"pull", reg.Host + "/" + repo + "-missing:1"}, "image not found in registry " + reg.Host},
			{[]string{"pull", "--tls-verify=false", auth.Host + "/" + repo + ":1"}, "access denied: log in with `skiff login " + auth.Host + "`"},
			{[]string{"pull", "127.0.0.1:1/" + repo + ":1"}, "registry 127.0.0.1:1 unreachable"},
		} {
			r := s.Run(tc.args...).MustFail(t, 125, tc.msg)
			requireOneLine(t, r)
		}
		s.WriteAuthFile(auth.Host, auth.User, auth.Password)
		s.Run("pull", "-q", "--tls-verify=false", auth.Host+"/"+repo+":1").MustSucceed(t)
	})
}
