package desktop

import (
	"os"
	"testing"
)

// TestMetadataWithoutFyneAppToml creates the app in a folder without
// FyneApp.toml, as an installed binary runs: it must still have its ID (for
// preferences) and the fyneDo migration.
func TestMetadataWithoutFyneAppToml(t *testing.T) {
	t.Chdir(t.TempDir())
	// Fyne writes its settings in the background: a HOME of our own,
	// removed on a best-effort basis.
	home, err := os.MkdirTemp("", "tokenloom-home")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(home) })
	t.Setenv("HOME", home)
	a := NewApp("1.2.3")
	defer a.Quit()
	m := a.Metadata()
	if m.ID != AppID || a.UniqueID() != AppID {
		t.Errorf("app ID %q / %q, want %q", m.ID, a.UniqueID(), AppID)
	}
	if !m.Migrations["fyneDo"] {
		t.Errorf("migrations %v: fyneDo missing", m.Migrations)
	}
	if m.Name != "Tokenloom" || m.Version != "1.2.3" || m.Icon == nil {
		t.Errorf("metadata %+v", m)
	}
	if _, err := os.Stat("FyneApp.toml"); err == nil {
		t.Fatal("test folder has a FyneApp.toml")
	}
}
