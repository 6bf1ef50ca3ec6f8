package history

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

// The history of the figures: 10,000 runs of two streams of 40 tokens each
// (82 events a run, 820,000 in all).
const (
	benchRuns   = 10000
	benchTokens = 40
)

// populate imports runs runs into a new history at path, in transactions
// of 1,000, and returns how long that took.
func populate(tb testing.TB, path string, runs int) time.Duration {
	tb.Helper()
	s, err := Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	for i := 0; i < runs; i += 1000 {
		batch := make([]*wire.Transcript, 0, 1000)
		for j := i; j < min(i+1000, runs); j++ {
			batch = append(batch, bigRun(j, benchTokens))
		}
		if err := s.ImportAll(context.Background(), batch); err != nil {
			tb.Fatal(err)
		}
	}
	return time.Since(start)
}

// queries are what a history panel asks of a history of runs runs.
func queries(runs int) []query {
	return []query{
		{"list newest 100", func(ctx context.Context, s *Store) (int, error) {
			r, err := s.List(ctx, Query{Limit: 100})
			return len(r), err
		}},
		{"list 100 in the middle", func(ctx context.Context, s *Store) (int, error) {
			r, err := s.List(ctx, Query{Limit: 100, Offset: runs / 2})
			return len(r), err
		}},
		{"list matching a word of 1 run in 8", func(ctx context.Context, s *Store) (int, error) {
			r, err := s.List(ctx, Query{Text: "glaciers", Limit: 100})
			return len(r), err
		}},
		{"list matching a word of every run", func(ctx context.Context, s *Store) (int, error) {
			r, err := s.List(ctx, Query{Text: "question", Limit: 100})
			return len(r), err
		}},
		{"search a word of 1 run in 8, by rank", func(ctx context.Context, s *Store) (int, error) {
			r, err := s.Search(ctx, "glaciers", 100)
			return len(r), err
		}},
		{"search a word of every run, by rank", func(ctx context.Context, s *Store) (int, error) {
			r, err := s.Search(ctx, "question", 100)
			return len(r), err
		}},
		{"search one run's number", func(ctx context.Context, s *Store) (int, error) {
			r, err := s.Search(ctx, "number "+itoa(runs*4242/10000), 100)
			return len(r), err
		}},
	}
}

type query struct {
	name string
	run  func(ctx context.Context, s *Store) (int, error)
}

// TestHistory10kRunsUnder100ms: with 10,000 runs in the history, listing
// and searching take under 100 ms (the median of 5 of each). The race
// detector slows SQLite's Go code many times: under it the test fills
// 1,000 runs and checks the answers only.
func TestHistory10kRunsUnder100ms(t *testing.T) {
	testenv.Long(t, "fills a history of 10,000 runs")
	runs := benchRuns
	if raceEnabled {
		runs /= 10
	}
	path := tempDB(t)
	fill := populate(t, path, runs)
	start := time.Now()
	s := openStore(t, path)
	opened := time.Since(start)
	size, _ := s.Size(t.Context())
	t.Logf("%d runs imported in %v; %.1f MiB; opened in %v", runs, fill.Round(time.Millisecond), float64(size)/(1<<20), opened.Round(10*time.Microsecond))
	for _, q := range queries(runs) {
		var times []time.Duration
		var n int
		for range 5 {
			start := time.Now()
			var err error
			if n, err = q.run(t.Context(), s); err != nil {
				t.Fatalf("%s: %v", q.name, err)
			}
			times = append(times, time.Since(start))
		}
		slices.Sort(times)
		median := times[len(times)/2]
		t.Logf("%-40s %3d runs  median %v", q.name, n, median.Round(10*time.Microsecond))
		if n == 0 {
			t.Errorf("%s: no run", q.name)
		}
		if median >= 100*time.Millisecond && !raceEnabled {
			t.Errorf("%s took %v (median of 5): want under 100 ms", q.name, median)
		}
	}
}

// BenchmarkHistory10k measures the same queries one by one.
func BenchmarkHistory10k(b *testing.B) {
	path := tempDB(b)
	populate(b, path, benchRuns)
	s := openStore(b, path)
	for _, q := range queries(benchRuns) {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := q.run(context.Background(), s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("get one run", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Get(context.Background(), bigRun(4242, 0).ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
