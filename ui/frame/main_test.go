package frame

import (
	"testing"

	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

func TestMain(m *testing.M) {
	testenv.VerifyTestMain(m)
}
