package localefix

import "testing"

func TestIsCLocale(t *testing.T) {
	for v, want := range map[string]bool{"C": true, "C.UTF-8": true, "C.utf8": true, "POSIX": true, "": false, "en_US.UTF-8": false, "de_DE": false, "Ca": false} {
		if got := isCLocale(v); got != want {
			t.Errorf("isCLocale(%q) = %v", v, got)
		}
	}
}
