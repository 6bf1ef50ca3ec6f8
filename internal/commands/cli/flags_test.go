package cli

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		w, h int
		ok   bool
	}{
		{"1600x900", 1600, 900, true},
		{"1280X800", 1280, 800, true},
		{"1x1", 1, 1, true},
		{"1600", 0, 0, false},
		{"1600x", 0, 0, false},
		{"x900", 0, 0, false},
		{"0x900", 0, 0, false},
		{"1600x-9", 0, 0, false},
		{"1600x900px", 0, 0, false},
		{" 1600x900", 0, 0, false},
		{"1600×900", 0, 0, false},
		{"", 0, 0, false},
	} {
		w, h, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || w != tt.w || h != tt.h {
			t.Errorf("ParseSize(%q) = %d, %d, %v; want %d, %d, ok %v", tt.in, w, h, err, tt.w, tt.h, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "want WIDTHxHEIGHT") {
			t.Errorf("ParseSize(%q): %v does not say what it wants", tt.in, err)
		}
	}
}

func TestPictureSizeFlag(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want [2]int
		err  string
	}{
		{"1920x1080", [2]int{1920, 1080}, ""},
		{"320x200", [2]int{320, 200}, ""},
		{"4000x3000", [2]int{4000, 3000}, ""},
		{"319x200", [2]int{}, "want 320x200 to 4000x3000"},
		{"4000x3001", [2]int{}, "want 320x200 to 4000x3000"},
		{"big", [2]int{}, "want WIDTHxHEIGHT"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var size [2]int
		pictureSizeFlag(fs, "size", &size)
		err := fs.Parse([]string{"--size", tt.in})
		if tt.err == "" && (err != nil || size != tt.want) {
			t.Errorf("--size %s: %v, %v; want %v", tt.in, size, err, tt.want)
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("--size %s: %v; want an error with %q", tt.in, err, tt.err)
		}
	}
}

// TestParseWithArgs: flags before, between and after the arguments; after
// "--" everything is an argument.
func TestParseWithArgs(t *testing.T) {
	for _, tt := range []struct {
		args     []string
		rest     []string
		json     bool
		speed    string
		code     int
		finished bool
	}{
		{[]string{"a.json"}, []string{"a.json"}, false, "1", ExitOK, false},
		{[]string{"a.json", "--json"}, []string{"a.json"}, true, "1", ExitOK, false},
		{[]string{"--speed", "2", "a", "--json", "b"}, []string{"a", "b"}, true, "2", ExitOK, false},
		{[]string{"a", "--", "--json", "b"}, []string{"a", "--json", "b"}, false, "1", ExitOK, false},
		{[]string{"--", "-x"}, []string{"-x"}, false, "1", ExitOK, false},
		{[]string{}, nil, false, "1", ExitOK, false},
		{[]string{"a", "--help"}, nil, false, "1", ExitOK, true},
		{[]string{"a", "--nope"}, nil, false, "1", ExitUsage, true},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			asJSON := fs.Bool("json", false, "")
			speed := fs.String("speed", "1", "")
			rest, code, done := parseWithArgs(fs, tt.args)
			if done != tt.finished || code != tt.code {
				t.Fatalf("code %d, done %v; want %d, %v", code, done, tt.code, tt.finished)
			}
			if !done && (!slices.Equal(rest, tt.rest) || *asJSON != tt.json || *speed != tt.speed) {
				t.Errorf("arguments %q, --json %v, --speed %s; want %q, %v, %s", rest, *asJSON, *speed, tt.rest, tt.json, tt.speed)
			}
		})
	}
}
