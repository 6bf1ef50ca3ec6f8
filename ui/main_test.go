package ui

import (
	"testing"

	"github.com/tokenloom/tokenloom/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.VerifyTestMain(m)
}
