// Package embedded starts Tokenloom's server inside this process, on a
// random loopback port, with a client of it: how the desktop app, `tokenloom
// run` and `replay`, and the bench reach their server. (`tokenloom serve`
// listens on a fixed address and needs no client: it uses package server
// alone.)
package embedded

import (
	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/server"
)

// Server is a server listening on a random loopback port and a client of
// it.
type Server struct {
	// Server is the running server.
	Server *server.Server
	// Client talks to it.
	Client *client.Client
}

// Start starts a server with cfg on a random loopback port and a client of
// it. Close ends both.
func Start(cfg server.Config) (*Server, error) {
	srv, err := server.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(""); err != nil {
		srv.Close()
		return nil, err
	}
	cl, err := client.New(srv.URL())
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &Server{Server: srv, Client: cl}, nil
}

// Close drops the client's idle connections and shuts the server down
// (see server.Server.Close).
func (s *Server) Close() {
	s.Client.Close()
	s.Server.Close()
}
