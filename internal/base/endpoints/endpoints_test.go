package endpoints

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

func TestMain(m *testing.M) { testenv.VerifyTestMain(m) }

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Endpoint
	}{
		{"gpu=ollama:http://10.0.0.5:11434", Endpoint{Name: "gpu", Kind: KindOllama, URL: "http://10.0.0.5:11434"}},
		{"gpu=ollama:http://10.0.0.5:11434/", Endpoint{Name: "gpu", Kind: KindOllama, URL: "http://10.0.0.5:11434"}},
		{"vllm=openai:http://h:8000/v1,key=env:VLLM_KEY", Endpoint{Name: "vllm", Kind: KindOpenAI, URL: "http://h:8000/v1", APIKeyEnv: "VLLM_KEY"}},
		{"lm-studio=openai:http://localhost:1234", Endpoint{Name: "lm-studio", Kind: KindOpenAI, URL: "http://localhost:1234/v1"}},
		{"router=openai:https://llm.example.com/api/v1/", Endpoint{Name: "router", Kind: KindOpenAI, URL: "https://llm.example.com/api/v1"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil || got != tc.want {
				t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	const secret = "sk-live-0123456789"
	for _, tc := range []struct{ in, wantErr string }{
		{"gpu", "want NAME=KIND:URL"},
		{secret, "want NAME=KIND:URL"},
		{"gpu=http://h:11434", "unknown kind"},
		{"gpu=llama:http://h:11434", "unknown kind"},
		{"gpu=ollama:ftp://h", "invalid URL"},
		{"gpu=ollama:h:11434", "invalid URL"},
		{"g pu=ollama:http://h:11434", "endpoint name"},
		{"=ollama:http://h:11434", "endpoint name"},
		{strings.Repeat("a", 33) + "=ollama:http://h", "endpoint name"},
		{"gpu=openai:http://user:" + secret + "@h/v1", "holds credentials"},
		{"gpu=openai:http://h/v1?key=1", "query"},
		{"gpu=openai:http://h/v1,key=" + secret, "key=env:VARIABLE"},
		{"gpu=openai:http://h/v1,key=env:1BAD", "not the name of an environment variable"},
		{"gpu=openai:http://h/v1,token=x", "unknown option"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := Parse(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse(%q) = %v, want an error with %q", tc.in, err, tc.wantErr)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}
}

func TestKey(t *testing.T) {
	e := Endpoint{Name: "gpu", Kind: KindOpenAI, URL: "http://h/v1", APIKeyEnv: "TOKENLOOM_TEST_KEY"}
	t.Setenv("TOKENLOOM_TEST_KEY", "")
	if _, err := e.Key(); !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "TOKENLOOM_TEST_KEY") {
		t.Errorf("Key with the variable unset = %v, want ErrNoKey naming it", err)
	}
	t.Setenv("TOKENLOOM_TEST_KEY", "sk-1")
	if k, err := e.Key(); k != "sk-1" || err != nil {
		t.Errorf("Key = %q, %v; want sk-1", k, err)
	}
	if k, err := (Endpoint{Name: "x"}).Key(); k != "" || err != nil {
		t.Errorf("Key without a variable = %q, %v; want none", k, err)
	}
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadFile(t *testing.T) {
	p := writeFile(t, `{"endpoints":[
		{"name":"gpu","kind":"ollama","url":"http://10.0.0.5:11434/"},
		{"name":"vllm","kind":"openai","url":"http://10.0.0.5:8000","api_key_env":"VLLM_KEY"}]}`)
	got, err := ReadFile(p)
	want := []Endpoint{
		{Name: "gpu", Kind: KindOllama, URL: "http://10.0.0.5:11434"},
		{Name: "vllm", Kind: KindOpenAI, URL: "http://10.0.0.5:8000/v1", APIKeyEnv: "VLLM_KEY"},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ReadFile = %+v, %v; want %+v", got, err, want)
	}
	if got, err := ReadFile(filepath.Join(t.TempDir(), "none.json")); got != nil || err != nil {
		t.Errorf("ReadFile of a missing file = %+v, %v; want nothing", got, err)
	}
}

func TestReadFileRefuses(t *testing.T) {
	const secret = "sk-live-0123456789"
	for name, tc := range map[string]struct{ text, wantErr string }{
		"a key by value": {`{"endpoints":[{"name":"a","kind":"openai","url":"http://h/v1","api_key":"` + secret + `"}]}`, `unknown field "api_key"`},
		"two of a name":  {`{"endpoints":[{"name":"a","kind":"ollama","url":"http://h"},{"name":"a","kind":"ollama","url":"http://i"}]}`, "two endpoints"},
		"a bad kind":     {`{"endpoints":[{"name":"a","kind":"vllm","url":"http://h"}]}`, "unknown kind"},
		"not JSON":       {`endpoints: []`, "invalid character"},
	} {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, tc.text)
			_, err := ReadFile(p)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), p) {
				t.Fatalf("ReadFile = %v, want an error naming the file with %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}
}

func TestLoadMergesFlagsOverTheFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	path, err := File()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"endpoints":[{"name":"gpu","kind":"ollama","url":"http://a:1"},{"name":"lab","kind":"ollama","url":"http://b:2"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	flag1, _ := Parse("lab=openai:http://c:3/v1")
	flag2, _ := Parse("new=ollama:http://d:4")
	got, err := Load([]Endpoint{flag1, flag2})
	want := []Endpoint{{Name: "gpu", Kind: KindOllama, URL: "http://a:1"}, flag1, flag2}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Load = %+v, %v; want %+v", got, err, want)
	}
	if _, err := Load([]Endpoint{flag1, flag1}); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("Load with a flag twice = %v, want an error", err)
	}
}

// TestWriteFile: endpoints written are read back as written (URLs in their
// checked form), over an earlier file; a bad endpoint or two of one name
// leave the file as it was.
func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokenloom", FileName)
	first := []Endpoint{{Name: "gpu", Kind: KindOllama, URL: "http://10.0.0.5:11434/"}}
	if err := WriteFile(path, first); err != nil {
		t.Fatal(err)
	}
	es := []Endpoint{
		{Name: "gpu", Kind: KindOllama, URL: "http://10.0.0.5:11434"},
		{Name: "vllm", Kind: KindOpenAI, URL: "http://10.0.0.6:8000", APIKeyEnv: "VLLM_KEY"},
	}
	if err := WriteFile(path, es); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Endpoint{es[0], {Name: "vllm", Kind: KindOpenAI, URL: "http://10.0.0.6:8000/v1", APIKeyEnv: "VLLM_KEY"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %+v, want %+v", got, want)
	}
	for _, bad := range [][]Endpoint{
		{{Name: "a b", Kind: KindOllama, URL: "http://x:1"}},
		{{Name: "gpu", Kind: KindOllama, URL: "http://x:1"}, {Name: "gpu", Kind: KindOpenAI, URL: "http://y:2"}},
	} {
		if err := WriteFile(path, bad); err == nil {
			t.Errorf("wrote %+v", bad)
		}
	}
	if again, err := ReadFile(path); err != nil || !reflect.DeepEqual(again, want) {
		t.Errorf("after refused writes the file holds %+v, %v", again, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("%d files beside the endpoints file", len(entries)-1)
	}
}
