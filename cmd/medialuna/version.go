package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version and commit are the release and commit this binary was built
// from, set at build time with -ldflags "-X main.version=v1.2.3 -X
// main.commit=abc123" (the Taskfile's build does, from git). A plain `go
// build` leaves them empty, and readBuildInfo falls back to the module
// version and the VCS stamp Go records (unless -buildvcs=false).
var version, commit string

// buildInfo says which build this is: the version, the commit it was built
// from (with "-modified" when the tree had changes), when, and with which Go.
type buildInfo struct {
	Version, Commit, Time, Go string
	Modified                  bool
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Go: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if b.Version == "" {
			b.Version = "dev"
		}
		return b
	}
	if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

func (b buildInfo) String() string {
	s := "medialuna " + b.Version
	if b.Commit != "" {
		commit := b.Commit
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if b.Modified {
			commit += "-modified"
		}
		s += " (commit " + commit
		if b.Time != "" {
			s += ", " + b.Time
		}
		s += ")"
	}
	return s + " " + b.Go
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "Prints this build's version, the commit it was built from and the Go version.", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, err := fmt.Fprintln(stdout, readBuildInfo())
	return err
}
