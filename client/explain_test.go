package client_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tokenloom/tokenloom/client"
)

func TestExplain(t *testing.T) {
	refusal := &client.APIError{Status: 400, Message: `stream 0: unknown endpoint "nope"`, Hint: "the endpoints are: gpu"}
	bare := &client.APIError{Status: 503, Message: "too many runs"}
	for _, tc := range []struct {
		name          string
		err           error
		message, hint string
	}{
		{"nil", nil, "", ""},
		{"refusal", refusal, `stream 0: unknown endpoint "nope"`, "the endpoints are: gpu"},
		{"without a hint", bare, "too many runs", ""},
		{"wrapped", fmt.Errorf("step 2 of 4 (2 streams): %w", refusal), `step 2 of 4 (2 streams): stream 0: unknown endpoint "nope"`, "the endpoints are: gpu"},
		{"wrapped twice", fmt.Errorf("sweep: %w", fmt.Errorf("step 1: %w", bare)), "sweep: step 1: too many runs", ""},
		{"another error", errors.New("dial tcp: connection refused"), "dial tcp: connection refused", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			message, hint := client.Explain(tc.err)
			if message != tc.message || hint != tc.hint {
				t.Errorf("Explain = %q, %q; want %q, %q", message, hint, tc.message, tc.hint)
			}
		})
	}
	// Error keeps the status for logs; Explain leaves it out.
	if got := refusal.Error(); got != `stream 0: unknown endpoint "nope" (the endpoints are: gpu) [400]` {
		t.Errorf("Error() = %q", got)
	}
}
