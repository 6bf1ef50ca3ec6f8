//go:build !unix

package frame

import "time"

// ProcessCPU is the CPU time this process has used; 0 here, where it is
// not known (the pacer then leaves every frame on).
func ProcessCPU() time.Duration { return 0 }
