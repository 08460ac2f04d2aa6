// Package buildinfo reports surge's version and how the binary was built,
// read from the information the Go toolchain embeds in every binary.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is surge's release version. Release builds may override it with
// -ldflags "-X github.com/surgeload/surge/internal/buildinfo.Version=v1.2.3".
var Version = "v0.1.0-dev"

// Info describes one build of surge.
type Info struct {
	Version   string // release version (Version)
	GoVersion string // Go toolchain that built the binary
	Platform  string // GOOS/GOARCH
	Commit    string // VCS revision, empty when built outside a checkout
	Modified  bool   // the checkout had uncommitted changes
	Time      string // VCS commit time (RFC 3339), empty when unknown
}

// Read returns the build information of the running binary.
func Read() Info {
	info := Info{
		Version:   Version,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		case "vcs.time":
			info.Time = s.Value
		}
	}
	return info
}

// String renders the information on one line, as `surge version` prints it.
func (i Info) String() string {
	s := fmt.Sprintf("surge %s %s %s", i.Version, i.GoVersion, i.Platform)
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if i.Modified {
			c += "-dirty"
		}
		s += " commit " + c
	}
	if i.Time != "" {
		s += " built from " + i.Time
	}
	return s
}
