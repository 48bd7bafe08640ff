// Package buildinfo names the build that produced an output, so that
// snapshots, models and reports say which code made them.
package buildinfo

import "runtime/debug"

// Version identifies the build: module version, VCS revision and whether
// the tree was modified ("+dirty"); "unknown" when the binary carries no
// build information.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " " + rev[:min(12, len(rev))] + dirty
	}
	return v
}
