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
		{[]string{"--help"}, 0, []string{"tokenloom run [flags]", "tokenloom replay FILE", "tokenloom serve [flags]", "demo/hello", "--run", "--save run.json"}},
		{[]string{"help"}, 0, []string{"Usage:"}},
		{[]string{"help", "run"}, 0, []string{"Usage: tokenloom run", "-max-tokens N", "-sync", "-json", "-system PROMPT", "-save FILE", ".md or FILE.markdown",
			"up to Ctrl+D", "[1 demo/hello]", `{"event":"summary"`, "then the run's summary"}},
		{[]string{"run", "-h"}, 0, []string{"Usage: tokenloom run"}},
		{[]string{"help", "replay"}, 0, []string{"Usage: tokenloom replay FILE", "-speed N", "-json", "1/16, to 16"}},
		{[]string{"replay", "--help"}, 0, []string{"Usage: tokenloom replay FILE"}},
		{[]string{"serve", "--help"}, 0, []string{"Usage: tokenloom serve", "-addr HOST:PORT", "127.0.0.1:8765"}},
		{[]string{"help", "run"}, 0, []string{"-endpoint NAME=KIND:URL[,key=env:VARIABLE]", "or MODEL@ENDPOINT", "-m MODEL@NAME streams from the endpoint"}},
		{[]string{"serve", "--help"}, 0, []string{"-endpoint NAME=KIND:URL[,key=env:VARIABLE]", `"endpoint":"NAME"`}},
		{[]string{"--help"}, 0, []string{"--endpoint NAME=KIND:URL", "endpoints.json", "-m MODEL@NAME"}},
		{[]string{"run", "--endpoint", "gpu=openai:http://h/v1,key=sk-pasted"}, 2, []string{"key=env:VARIABLE"}},
		{[]string{"serve", "--endpoint", "gpu=vllm:http://h/v1"}, 2, []string{`unknown kind "vllm"`}},
		{[]string{"bogus"}, 2, []string{`unknown command "bogus"`}},
		{[]string{"run", "--max-tokens", "x"}, 2, []string{"invalid value"}},
		{[]string{"run", "-p", "hi", "extra"}, 2, []string{`unexpected argument "extra"`}},
		{[]string{"run", "-p", "hi", "--save", "run.txt"}, 2, []string{`--save: cannot tell the format of "run.txt"`, ".json", ".md or .markdown"}},
		{[]string{"replay"}, 2, []string{"want one FILE, got 0"}},
		{[]string{"replay", "a.json", "b.json"}, 2, []string{"want one FILE, got 2"}},
		{[]string{"replay", "a.json", "--speed", "x"}, 2, []string{"invalid value"}},
		{[]string{"replay", "testdata-missing.json", "--speed", "2"}, 2, []string{"testdata-missing.json", "no such file"}},
		{[]string{"--help"}, 0, []string{"Exit status:\n  0    done\n", "\n  5    bench --check: a figure missed its target\n", "\n  130  stopped with Ctrl+C"}},
		{[]string{"help", "run"}, 0, []string{"Exit status:", "\n  1    a stream ended in an error", "\n  3    the run, stream or sweep named is not in the history\n", "\n  130  "}},
		{[]string{"help", "sweep"}, 0, []string{"Exit status:", "\n  3    the run, stream or sweep named", "\n  130  "}},
		{[]string{"help", "replay"}, 0, []string{"Exit status:", "\n  1    a stream ended in an error"}},
		{[]string{"help", "history"}, 0, []string{"Exit status:", "\n  3    the run, stream or sweep named"}},
		{[]string{"help", "serve"}, 0, []string{"Exit status:", "\n  4    Tokenloom could not do its part"}},
		{[]string{"help", "bench"}, 0, []string{"Exit status:", "\n  5    bench --check"}},
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
			if tt.args[len(tt.args)-1] == "serve" && strings.Contains(all, "\n  1    ") {
				t.Errorf("serve's help lists exit status 1, which it never returns:\n%s", all)
			}
		})
	}
}
