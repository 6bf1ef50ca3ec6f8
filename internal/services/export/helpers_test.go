package export_test

import (
	"testing"

	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/testkit/transcripttest"
)

func TestMain(m *testing.M) {
	testenv.VerifyTestMain(m)
}

// fixture is the finished run of four streams that the tests save, read
// and write as Markdown.
var fixture = transcripttest.Run

func ptr[T any](v T) *T { return &v }
