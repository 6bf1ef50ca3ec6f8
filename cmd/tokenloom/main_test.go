package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--help"}, 0, []string{"tokenloom run [flags]", "tokenloom serve [flags]", "demo/hello", "--run"}},
		{[]string{"help"}, 0, []string{"Usage:"}},
		{[]string{"help", "run"}, 0, []string{"Usage: tokenloom run", "-max-tokens N", "-sync", "-json", "-system PROMPT"}},
		{[]string{"run", "-h"}, 0, []string{"Usage: tokenloom run"}},
		{[]string{"serve", "--help"}, 0, []string{"Usage: tokenloom serve", "-addr HOST:PORT", "127.0.0.1:8765"}},
		{[]string{"bogus"}, 2, []string{`unknown command "bogus"`}},
		{[]string{"run", "--max-tokens", "x"}, 2, []string{"invalid value"}},
		{[]string{"run", "-p", "hi", "extra"}, 2, []string{`unexpected argument "extra"`}},
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
}
