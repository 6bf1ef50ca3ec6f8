// Package localefix maps the C and POSIX locales, the default of many
// containers and CI machines, to en_US.UTF-8 for this process before Fyne
// reads them: Fyne's lang package parses the locale in its init and logs an
// error for "C" (fyne-io/fyne#5271), which would land on the standard error
// of every command, `tokenloom run` included.
//
// Import it blank from package main. It depends on nothing outside the
// standard library, so by Go's initialisation order (packages sorted by
// import path, each once its imports are done) it runs before
// fyne.io/fyne/v2/lang, which waits for golang.org/x/text.
package localefix

import (
	"os"
	"strings"
)

func init() {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v, ok := os.LookupEnv(name); ok && isCLocale(v) {
			_ = os.Setenv(name, "en_US.UTF-8")
		}
	}
}

// isCLocale reports whether v names the C or POSIX locale.
func isCLocale(v string) bool {
	return v == "C" || v == "POSIX" || strings.HasPrefix(v, "C.")
}
