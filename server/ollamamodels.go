package server

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Models lists Ollama's local models, marking those loaded in memory.
func (o *Ollama) Models(ctx context.Context) ([]wire.Model, error) {
	list, err := o.client.List(ctx)
	if err != nil {
		return nil, o.classify(err, "")
	}
	loaded := map[string]bool{}
	if ps, err := o.client.ListRunning(ctx); err == nil {
		for _, m := range ps.Models {
			loaded[m.Name] = true
		}
	}
	// The models not seen before are asked about at once, a few at a time.
	caps := make([][]string, len(list.Models))
	var wg sync.WaitGroup
	limit := make(chan struct{}, showAtOnce)
	for i, m := range list.Models {
		wg.Go(func() {
			limit <- struct{}{}
			defer func() { <-limit }()
			caps[i] = o.capabilities(ctx, m)
		})
	}
	wg.Wait()
	out := make([]wire.Model, 0, len(list.Models))
	for i, m := range list.Models {
		mod := m.ModifiedAt
		out = append(out, wire.Model{
			Name:          m.Name,
			Source:        wire.SourceOllama,
			Size:          m.Size,
			Family:        m.Details.Family,
			ParameterSize: m.Details.ParameterSize,
			Quantization:  m.Details.QuantizationLevel,
			ModifiedAt:    &mod,
			Loaded:        loaded[m.Name],
			Capabilities:  caps[i],
		})
	}
	slices.SortFunc(out, func(a, b wire.Model) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// showAtOnce is how many /api/show requests Models makes at once.
const showAtOnce = 8

// capabilities asks Ollama what model m can do (thinking among it), once
// per model digest: a model's capabilities change only with its digest.
// Ollama says since 0.6.4; an older one, or a failure, leaves them unknown
// (and asked again next time).
func (o *Ollama) capabilities(ctx context.Context, m api.ListModelResponse) []string {
	if caps, ok := o.caps.Load(m.Digest); ok {
		return caps.([]string)
	}
	show, err := o.client.Show(ctx, &api.ShowRequest{Model: m.Name})
	if err != nil {
		return nil
	}
	caps := make([]string, 0, len(show.Capabilities))
	for _, c := range show.Capabilities {
		caps = append(caps, string(c))
	}
	o.caps.Store(m.Digest, caps)
	return caps
}

// loaded tells whether Ollama holds model in memory; when it cannot tell it
// says true, so no loading phase is shown that may not happen.
func (o *Ollama) loaded(ctx context.Context, model string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	ps, err := o.client.ListRunning(ctx)
	if err != nil {
		return true
	}
	for _, m := range ps.Models {
		if m.Name == model || m.Model == model || strings.TrimSuffix(m.Name, ":latest") == model {
			return true
		}
	}
	return false
}
