package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

// tokenloomBin is the tokenloom binary built by TestMain.
var tokenloomBin string

// TestMain builds the tokenloom binary once for the CLI tests, runs the
// tests and fails the package if any goroutine outlives them.
func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tokenloom-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	tokenloomBin = filepath.Join(dir, "tokenloom")
	build := exec.Command("go", "build", "-o", tokenloomBin, "github.com/tokenloom/tokenloom/cmd/tokenloom")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/tokenloom: %v\n%s", err, out)
		return 1
	}

	code := m.Run()
	if code == 0 {
		if err := testenv.Leaks(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: goroutines left after the tests: %v\n", err)
			code = 1
		}
	}
	return code
}
