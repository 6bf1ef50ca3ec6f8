package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/palette"
)

// Env is what a command gets from its process: the standard streams and
// the program's version.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Version        string
}

// NewFlagSet is a command's flag set: errors and help go to stderr, the
// help being usage followed by the flags.
func NewFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// ParseFlags parses args; done is true when the command should exit with
// code: ExitOK after --help, ExitUsage after a wrong flag (the flag package
// has said why).
func ParseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return ExitOK, true
	case err != nil:
		return ExitUsage, true
	}
	return ExitOK, false
}

// ParseFlagsOnly parses the args of a command that takes flags only: an
// argument left over is refused, the message followed by hint.
func ParseFlagsOnly(fs *flag.FlagSet, args []string, stderr io.Writer, hint string) (code int, done bool) {
	if code, done := ParseFlags(fs, args); done {
		return code, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tokenloom %s: unexpected argument %q%s\n", fs.Name(), fs.Arg(0), hint)
		return ExitUsage, true
	}
	return ExitOK, false
}

// parseWithArgs parses the args of a command whose flags may come before,
// between or after its arguments (tokenloom replay run.json --speed 2) and
// returns the arguments. After "--" everything is an argument.
func parseWithArgs(fs *flag.FlagSet, args []string) (rest []string, code int, done bool) {
	for {
		if code, done := ParseFlags(fs, args); done {
			return nil, code, true
		}
		left := fs.Args()
		if len(left) == 0 {
			return rest, ExitOK, false
		}
		if used := len(args) - len(left); used > 0 && args[used-1] == "--" {
			return append(rest, left...), ExitOK, false
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
}

// ParseSize reads a size in pixels written WxH ("1600x900", or with an X):
// two whole numbers above zero. The caller says which sizes it takes.
func ParseSize(s string) (width, height int, err error) {
	w, h, ok := strings.Cut(strings.ToLower(s), "x")
	width, werr := strconv.Atoi(w)
	height, herr := strconv.Atoi(h)
	if !ok || werr != nil || herr != nil || width < 1 || height < 1 {
		return 0, 0, fmt.Errorf("%q: want WIDTHxHEIGHT in pixels, such as 1600x900", s)
	}
	return width, height, nil
}

// Picture sizes that --timeline-size and --picture-size take.
const (
	minPictureWidth, minPictureHeight = 320, 200
	maxPictureWidth, maxPictureHeight = 4000, 3000
)

// pictureSizeFlag adds the flag name, a picture's size WxH, to a command
// that saves one.
func pictureSizeFlag(fs *flag.FlagSet, name string, size *[2]int) {
	usage := fmt.Sprintf("the picture's size in pixels, `WxH` (default %dx%d)", TimelineWidth, TimelineHeight)
	fs.Func(name, usage, func(s string) error {
		w, h, err := ParseSize(s)
		if err == nil && (w < minPictureWidth || h < minPictureHeight || w > maxPictureWidth || h > maxPictureHeight) {
			err = fmt.Errorf("%dx%d: want %dx%d to %dx%d", w, h, minPictureWidth, minPictureHeight, maxPictureWidth, maxPictureHeight)
		}
		*size = [2]int{w, h}
		return err
	})
}

// pictureSize is the size a picture is saved at: size, or without one
// TimelineWidth×TimelineHeight.
func pictureSize(size [2]int) (width, height int) {
	if size[0] == 0 || size[1] == 0 {
		return TimelineWidth, TimelineHeight
	}
	return size[0], size[1]
}

// intFlag adds the flag name, a whole number that is nil unless given.
func intFlag(fs *flag.FlagSet, name, usage string, v **int) {
	fs.Func(name, usage, func(s string) error {
		n, err := strconv.Atoi(s)
		*v = &n
		return err
	})
}

// temperatureFlag adds --temperature, nil unless given.
func temperatureFlag(fs *flag.FlagSet, v **float64) {
	fs.Func("temperature", "sampling temperature `T`, 0 to 2 (default: the model's)", func(s string) error {
		t, err := strconv.ParseFloat(s, 64)
		*v = &t
		return err
	})
}

// ollamaFlag adds --ollama to a command that starts its own server.
func ollamaFlag(fs *flag.FlagSet, url *string) {
	fs.StringVar(url, "ollama", "", "Ollama's `URL` (default: OLLAMA_HOST, else http://127.0.0.1:11434)")
}

// EndpointFlag adds --endpoint, repeatable, to a command that starts its
// own server.
func EndpointFlag(fs *flag.FlagSet, eps *[]endpoints.Endpoint) {
	fs.Func("endpoint", "a model server besides the local Ollama, `"+endpoints.FlagSyntax+"`: KIND is ollama or openai "+
		"(e.g. gpu=openai:http://10.0.0.5:8000/v1,key=env:VLLM_KEY); repeat for several; they add to or replace those of "+endpointsFile(), func(s string) error {
		e, err := endpoints.Parse(s)
		*eps = append(*eps, e)
		return err
	})
}

// endpointsFile names the endpoints file for a help text.
func endpointsFile() string {
	if p, err := endpoints.File(); err == nil {
		return p
	}
	return endpoints.FileName + " in the user's config folder"
}

// colorWanted reports whether w is a terminal that wants colour.
func colorWanted(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(w)
}

// isTerminal reports whether f, a standard stream, is a terminal (not a
// pipe, a file or /dev/null).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// trueColor reports whether the terminal says it takes 24-bit colour.
func trueColor() bool { return palette.TrueColor(os.Getenv("COLORTERM")) }
