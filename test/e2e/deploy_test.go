package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeployKit: the systemd units in deploy/ pass systemd-analyze verify
// (where systemd is installed) with the real binary, and every setting
// their environment files name is one the command they run knows.
func TestDeployKit(t *testing.T) {
	for _, unit := range []struct{ file, env, command string }{
		{"medialuna.service", "medialuna.env", "serve"},
		{"medialuna-probe.service", "medialuna-probe.env", "probe"},
	} {
		t.Run(unit.file, func(t *testing.T) {
			dir := filepath.Join("..", "..", "deploy", "systemd")
			help, _ := exec.Command(binary, unit.command, "--help").CombinedOutput()
			envFile := filepath.Join(dir, unit.env)
			for _, key := range envKeys(t, envFile) {
				if !strings.Contains(string(help), "env "+key) && !strings.Contains(string(help), ", "+key) {
					t.Errorf("%s sets %s, which `medialuna %s --help` does not name", unit.env, key, unit.command)
				}
			}
			analyze, err := exec.LookPath("systemd-analyze")
			if err != nil {
				t.Skip("systemd-analyze is not installed: the units are not verified here")
			}
			text, err := os.ReadFile(filepath.Join(dir, unit.file))
			if err != nil {
				t.Fatal(err)
			}
			abs, _ := filepath.Abs(envFile)
			local := strings.NewReplacer("/usr/local/bin/medialuna", binary,
				"/etc/medialuna/medialuna.env", abs, "/etc/medialuna/probe.env", abs).Replace(string(text))
			path := filepath.Join(t.TempDir(), unit.file)
			if err := os.WriteFile(path, []byte(local), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
			// verify exits 0 on unknown keys and bad values; it says so on
			// stderr, naming the file.
			if err != nil || strings.Contains(string(out), unit.file) {
				t.Errorf("systemd-analyze verify %s: %v\n%s", unit.file, err, out)
			}
		})
	}
}

// envKeys lists the variables an environment file sets (comment lines,
// which systemd ignores, are passed over).
func envKeys(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, _, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s: not KEY=VALUE: %q", path, line)
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		t.Errorf("%s sets nothing", path)
	}
	return keys
}
