package cli

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/tokenloom/tokenloom/client"
)

// Exit statuses of the commands. Each has one meaning, whatever the
// command; exitStatuses says it in words for the help texts and the README.
const (
	// ExitOK: the command did what it was asked.
	ExitOK = 0
	// ExitStreamError: a stream ended in an error, or a step of a sweep
	// could not run (no stream of it finished).
	ExitStreamError = 1
	// ExitUsage: the command line or the configuration is wrong: an
	// unknown command, flag or argument, a value out of range, a file that
	// is not a saved run, a request the server refused, the history
	// turned off.
	ExitUsage = 2
	// ExitNotFound: the run, stream or sweep named is not in the history.
	ExitNotFound = 3
	// ExitFailed: Tokenloom could not do its own part: start its server,
	// read or write a file or the history.
	ExitFailed = 4
	// ExitMissedTarget: a figure of tokenloom bench --check missed its
	// target.
	ExitMissedTarget = 5
	// ExitInterrupted: stopped with Ctrl+C (SIGINT) or SIGTERM before
	// the end; what had arrived is printed.
	ExitInterrupted = 130
)

// exitStatuses are the exit statuses in words, one line each.
var exitStatuses = []struct {
	code    int
	meaning string
}{
	{ExitOK, "done"},
	{ExitStreamError, "a stream ended in an error, or a step of a sweep could not run"},
	{ExitUsage, "the command line or the configuration is wrong (an unknown command, flag or argument, a value out of range, a file that is not a saved run, a request the server refused, the history turned off)"},
	{ExitNotFound, "the run, stream or sweep named is not in the history"},
	{ExitFailed, "Tokenloom could not do its part: start its server, read or write a file or the history"},
	{ExitMissedTarget, "bench --check: a figure missed its target"},
	{ExitInterrupted, "stopped with Ctrl+C before the end; what had arrived is printed"},
}

// ExitHelp is the part of a help text that lists the exit statuses codes
// (all of them when none is given), each with its meaning.
func ExitHelp(codes ...int) string {
	var b strings.Builder
	b.WriteString("Exit status:\n")
	for _, s := range exitStatuses {
		if len(codes) > 0 && !slices.Contains(codes, s.code) {
			continue
		}
		var line strings.Builder
		writeWrapped(&line, s.meaning, 72)
		for i, l := range strings.Split(strings.TrimSuffix(line.String(), "\n"), "\n") {
			if i == 0 {
				fmt.Fprintf(&b, "  %-4d %s\n", s.code, l)
			} else {
				fmt.Fprintf(&b, "       %s\n", l)
			}
		}
	}
	return b.String()
}

// Help is a command's help text: text, then the exit statuses codes with
// their meanings, then the heading of the flags that follow.
func Help(text string, codes ...int) string {
	return text + "\n" + ExitHelp(codes...) + "\nFlags:\n"
}

// refusalStatus is the exit status of a request the server did not carry
// out: ExitUsage when it refused it (a 4xx answer: the command line asked
// for something wrong), else ExitFailed (it could not be reached, or failed).
func refusalStatus(err error) int {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Status >= http.StatusBadRequest && apiErr.Status < http.StatusInternalServerError {
		return ExitUsage
	}
	return ExitFailed
}

// StartStatus is the exit status of a server that could not start:
// ExitFailed when it could not listen, else ExitUsage (its configuration:
// an Ollama URL, an endpoint, an address that is not loopback).
func StartStatus(err error) int {
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return ExitFailed
	}
	return ExitUsage
}
