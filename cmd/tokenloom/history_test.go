package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestHistoryCommandLine(t *testing.T) {
	t.Setenv("TOKENLOOM_HISTORY", filepath.Join(t.TempDir(), "history.db"))
	tests := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--help"}, 0, []string{"tokenloom history ...", "list, search, show, diff, export, rm, import"}},
		{[]string{"help", "history"}, 0, []string{"Usage: tokenloom history COMMAND", "list [--search TEXT] [--limit N] [--json]", "show ID [--json]",
			"diff A B [--json]", "export ID FILE", "rm ID...", "import FILE.json...", "TOKENLOOM_HISTORY", "~/.local/share"}},
		{[]string{"history"}, 2, []string{"Usage: tokenloom history COMMAND"}},
		{[]string{"history", "list", "--help"}, 0, []string{"-search TEXT", "-limit N", "-json"}},
		{[]string{"help", "run"}, 0, []string{"-no-history", "-history", "TOKENLOOM_HISTORY=off"}},
		{[]string{"history", "bogus"}, 2, []string{`unknown command "bogus"`}},
		{[]string{"history", "show"}, 2, []string{"wrong number of arguments (0)"}},
		{[]string{"history", "export", "r_1"}, 2, []string{"wrong number of arguments (1)"}},
		{[]string{"history", "list", "extra"}, 2, []string{"wrong number of arguments (1)"}},
		{[]string{"history", "list"}, 0, []string{"holds no run yet"}},
		{[]string{"history", "list", "--json"}, 0, []string{"[]"}},
		{[]string{"history", "show", "r_nope", "--json"}, 3, []string{"no run r_nope in the history"}},
		{[]string{"history", "diff", "--help"}, 0, []string{"-json", "diff A B"}},
		{[]string{"history", "diff", "r_1"}, 2, []string{"wrong number of arguments (1)"}},
		{[]string{"history", "diff", "r_1:0", "r_2"}, 2, []string{`"r_1:0": want RUNID:N`}},
		{[]string{"history", "diff", "r_nope", "r_nope:2", "--json"}, 3, []string{"no run r_nope in the history"}},
		{[]string{"history", "rm", "r_a", "r_b"}, 3, []string{"no run r_a", "no run r_b"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := realMain(tt.args, strings.NewReader(""), &out, &errOut)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			all := out.String() + errOut.String()
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
		})
	}
	t.Setenv("TOKENLOOM_HISTORY", "off")
	var out, errOut bytes.Buffer
	if code := realMain([]string{"history", "list"}, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "the history is off") {
		t.Errorf("history list with the history off: exit %d, %q", code, errOut.String())
	}
}
