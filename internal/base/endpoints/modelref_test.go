package endpoints

import (
	"strings"
	"testing"
)

func TestParseModelRef(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ModelRef
		// text is how String writes it back.
		text string
	}{
		{"llama3.2", ModelRef{Model: "llama3.2"}, "llama3.2"},
		{"llama3.1:8b@gpu", ModelRef{Model: "llama3.1:8b", Endpoint: "gpu"}, "llama3.1:8b@gpu"},
		{"demo/hello", ModelRef{Model: "demo/hello"}, "demo/hello"},
		{"demo/hamlet@lab", ModelRef{Model: "demo/hamlet", Endpoint: "lab"}, "demo/hamlet@lab"},
		{"hf.co/bartowski/Llama-3.2-1B-GGUF:Q4_K_M", ModelRef{Model: "hf.co/bartowski/Llama-3.2-1B-GGUF:Q4_K_M"}, "hf.co/bartowski/Llama-3.2-1B-GGUF:Q4_K_M"},
		{"meta-llama/Llama-3.1-8B-Instruct@vllm_2", ModelRef{Model: "meta-llama/Llama-3.1-8B-Instruct", Endpoint: "vllm_2"}, "meta-llama/Llama-3.1-8B-Instruct@vllm_2"},
		{"ft:gpt-4o-mini:org::id@router", ModelRef{Model: "ft:gpt-4o-mini:org::id", Endpoint: "router"}, "ft:gpt-4o-mini:org::id@router"},
		// The last @ splits: an OpenAI-compatible server's ids may hold one.
		{"a@b@c", ModelRef{Model: "a@b", Endpoint: "c"}, "a@b@c"},
		{"claude-3-5-sonnet@20240620@router", ModelRef{Model: "claude-3-5-sonnet@20240620", Endpoint: "router"}, "claude-3-5-sonnet@20240620@router"},
		{"  llama3.2\t", ModelRef{Model: "llama3.2"}, "llama3.2"},
		{" llama3.2 @ gpu \n", ModelRef{Model: "llama3.2", Endpoint: "gpu"}, "llama3.2@gpu"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseModelRef(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("ParseModelRef(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if s := got.String(); s != tc.text {
				t.Errorf("String() = %q, want %q", s, tc.text)
			}
			if again, err := ParseModelRef(got.String()); err != nil || again != got {
				t.Errorf("ParseModelRef(%q) = %+v, %v: String does not read back", got.String(), again, err)
			}
		})
	}
}

func TestParseModelRefRefuses(t *testing.T) {
	for _, tc := range []struct{ in, wantErr string }{
		{"", "no model named"},
		{"   ", "no model named"},
		{"x@", "no endpoint after the @"},
		{"x@  ", "no endpoint after the @"},
		{"@", "no model before the @"},
		{"@gpu", "no model before the @"},
		{" @gpu", "no model before the @"},
		{"a@@", "no endpoint after the @"},
		{"llama3@g pu", "endpoint name \"g pu\""},
		{"llama3@-gpu", "endpoint name \"-gpu\""},
		{"llama3@" + strings.Repeat("e", 33), "endpoint name"},
		{"llama3@gpu/1", "endpoint name \"gpu/1\""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseModelRef(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ParseModelRef(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.wantErr)
			}
		})
	}
}

// TestModelRefNamesEndpoints: every name an endpoint may have is an
// endpoint ParseModelRef reads, and no other.
func TestModelRefNamesEndpoints(t *testing.T) {
	for _, name := range []string{"gpu", "GPU-2", "lm_studio", "0", strings.Repeat("e", 32), "g pu", "-x", "", "a.b"} {
		_, parseErr := ParseModelRef("m@" + name)
		_, flagErr := Parse(name + "=ollama:http://h:11434")
		if (parseErr == nil) != (flagErr == nil) {
			t.Errorf("endpoint %q: ParseModelRef says %v, Parse says %v", name, parseErr, flagErr)
		}
	}
}
