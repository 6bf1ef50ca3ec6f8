package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/commands/cli"
)

// TestCommandRefuses: a wrong command line measures nothing and exits with
// cli.ExitUsage, saying why.
func TestCommandRefuses(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--size", "1280"}, `--size "1280": want WIDTHxHEIGHT`},
		{[]string{"--size", "0x800"}, `--size "0x800": want WIDTHxHEIGHT`},
		{[]string{"--size", "1280x800px"}, "want WIDTHxHEIGHT"},
		{[]string{"--streams", "9"}, "streams 9 out of range"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--nope"}, "flag provided but not defined"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Command(context.Background(), tt.args, cli.Env{Stdout: &out, Stderr: &errOut})
			if code != cli.ExitUsage || !strings.Contains(errOut.String(), tt.want) || out.Len() > 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, out.String(), errOut.String(), cli.ExitUsage, tt.want)
			}
		})
	}
}

// TestCommandHelp: --help lists the flags and the exit statuses bench
// returns, --check's own among them.
func TestCommandHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Command(context.Background(), []string{"--help"}, cli.Env{Stdout: &out, Stderr: &errOut}); code != cli.ExitOK {
		t.Fatalf("exit %d", code)
	}
	help := errOut.String()
	for _, want := range []string{"Usage: tokenloom bench", "-size WxH", "-check", "exit with status 5", "Exit status:", "\n  5    bench --check: a figure missed its target\n"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "\n  1    ") {
		t.Errorf("help lists exit status 1, which bench never returns:\n%s", help)
	}
}

func TestExitStatus(t *testing.T) {
	met := &Figures{Targets: map[string]bool{"relay_tokens_per_s": true}}
	missed := &Figures{Targets: map[string]bool{"relay_tokens_per_s": true, "rss_mb": false}}
	for _, tt := range []struct {
		name  string
		f     *Figures
		check bool
		want  int
	}{
		{"met", met, true, cli.ExitOK},
		{"missed, checked", missed, true, cli.ExitMissedTarget},
		{"missed, not checked", missed, false, cli.ExitOK},
	} {
		if got := exitStatus(tt.f, tt.check); got != tt.want {
			t.Errorf("%s: exit status %d, want %d", tt.name, got, tt.want)
		}
	}
}
