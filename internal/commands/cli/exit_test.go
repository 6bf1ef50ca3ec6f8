package cli

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestExitStatusesDocumented: the README's table of exit statuses says what
// the help texts say, status by status, and each status is listed once.
func TestExitStatusesDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, s := range exitStatuses {
		if seen[s.code] {
			t.Errorf("exit status %d listed twice", s.code)
		}
		seen[s.code] = true
		if row := fmt.Sprintf("| %d | %s |", s.code, s.meaning); !strings.Contains(string(readme), row) {
			t.Errorf("README.md lacks the row %q", row)
		}
	}
	for _, code := range []int{ExitOK, ExitStreamError, ExitUsage, ExitNotFound, ExitFailed, ExitMissedTarget, ExitInterrupted} {
		if !seen[code] {
			t.Errorf("exit status %d has no meaning in words", code)
		}
	}
}

// TestExitHelp lists the statuses asked for, each with its meaning, its
// lines wrapped under it.
func TestExitHelp(t *testing.T) {
	got := ExitHelp(ExitOK, ExitNotFound)
	want := "Exit status:\n  0    done\n  3    the run, stream or sweep named is not in the history\n"
	if got != want {
		t.Errorf("ExitHelp(0, 3) = %q, want %q", got, want)
	}
	all := ExitHelp()
	for _, s := range exitStatuses {
		if !strings.Contains(strings.Join(strings.Fields(all), " "), fmt.Sprintf("%d %s", s.code, s.meaning)) {
			t.Errorf("ExitHelp() lacks %d %s:\n%s", s.code, s.meaning, all)
		}
	}
	for line := range strings.Lines(all) {
		if len(line) > 81 {
			t.Errorf("line over 80 characters: %q", line)
		}
	}
}
