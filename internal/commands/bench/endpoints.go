package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/server"
)

// EndpointStreams is how many streams the endpoints part runs at once: two
// runs of 16 (the most one run takes), each with half its streams on each
// of two endpoints.
const EndpointStreams = 32

// floodEndpoint is an OpenAI-compatible server on loopback whose every chat
// streams tokens chunks of one token each, flushed one by one as a model
// server sends them and as fast as it can write them, then its usage and
// [DONE]: an endpoint that is never the bottleneck.
type floodEndpoint struct {
	srv *http.Server
	url string
	wg  sync.WaitGroup
}

func startFloodEndpoint(tokens int) (*floodEndpoint, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	const chunk = `data: {"id":"b","object":"chat.completion.chunk","created":1,"model":"flood","choices":[{"index":0,"delta":{"content":" tok"},"finish_reason":null}]}` + "\n\n"
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		bw := bufio.NewWriter(w)
		fl := w.(http.Flusher)
		for range tokens {
			if r.Context().Err() != nil {
				return
			}
			bw.WriteString(chunk)
			bw.Flush()
			fl.Flush()
		}
		fmt.Fprintf(bw, `data: {"id":"b","object":"chat.completion.chunk","created":1,"model":"flood","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}`+"\n\n"+
			`data: {"id":"b","object":"chat.completion.chunk","created":1,"model":"flood","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":%d,"total_tokens":%d}}`+"\n\ndata: [DONE]\n\n", tokens, tokens+1)
		bw.Flush()
	})
	e := &floodEndpoint{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, url: "http://" + l.Addr().String() + "/v1"}
	e.wg.Go(func() {
		if err := e.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	})
	return e, nil
}

func (e *floodEndpoint) close() {
	e.srv.Close()
	e.wg.Wait()
}

// measureEndpoints streams EndpointStreams × EndpointTokens tokens at once
// from two OpenAI-compatible endpoints (floodEndpoint) through the embedded
// server, with the limits of a run and of the server as they are, and
// notes the tokens received per second from the runs' start to the last
// token.
func measureEndpoints(ctx context.Context, c Config, f *Figures) error {
	var eps []endpoints.Endpoint
	for _, name := range []string{"a", "b"} {
		fe, err := startFloodEndpoint(c.EndpointTokens)
		if err != nil {
			return err
		}
		defer fe.close()
		eps = append(eps, endpoints.Endpoint{Name: name, Kind: endpoints.KindOpenAI, URL: fe.url})
	}
	e, err := embedded.Start(server.Config{Endpoints: eps})
	if err != nil {
		return err
	}
	defer e.Close()
	r, err := endpointsRound(ctx, e, eps, c.EndpointTokens)
	if err != nil {
		return err
	}
	f.EndpointsTokensPerS = ptr(math.Round(r))
	return nil
}

// endpointsRound runs the endpoints part once and returns its tokens per
// second.
func endpointsRound(ctx context.Context, e *embedded.Server, eps []endpoints.Endpoint, tokens int) (float64, error) {
	perRun := e.Server.Config().MaxStreamsPerRun
	var reqs []wire.RunRequest
	for i := range EndpointStreams {
		if i%perRun == 0 {
			reqs = append(reqs, wire.RunRequest{Prompt: "bench"})
		}
		req := &reqs[len(reqs)-1]
		req.Streams = append(req.Streams, wire.StreamSpec{Model: "flood", Endpoint: eps[i%len(eps)].Name})
	}
	start := time.Now()
	var runs []*wire.RunCreated
	for _, req := range reqs {
		created, err := e.Client.StartRun(ctx, req)
		if err != nil {
			return 0, err
		}
		runs = append(runs, created)
	}
	got := make([][][]client.Event, len(runs))
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, created := range runs {
		wg.Go(func() { got[i], errs[i] = follow(ctx, e.Client, created) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	var streams [][]client.Event
	for _, run := range got {
		streams = append(streams, run...)
	}
	return tokensPerSecond(start, streams, tokens)
}
