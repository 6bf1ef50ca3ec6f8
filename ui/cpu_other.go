//go:build !unix

package ui

import "time"

// processCPU is not known here: the pacer leaves every frame on.
func processCPU() time.Duration { return 0 }
