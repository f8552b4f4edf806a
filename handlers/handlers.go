// Package handlers holds the dashboard's HTTP handlers: each parses and
// validates its input, calls the cloud through the small interface it
// declares, and renders a view. Rendering (full page or HTMX partial) and the
// HTMX header helpers live here too, so imports run web → handlers → views.
package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// ImageSource is what the image handlers need from the cloud. *cloud.Client
// satisfies it; tests pass a fake.
type ImageSource interface {
	ListImages(ctx context.Context, svc cloud.Service, folderID string, opt cloud.ListOptions) ([]cloud.Image, string, error)
	AllFolders(ctx context.Context) ([]cloud.Folder, error)
}

var _ ImageSource = (*cloud.Client)(nil)

// Config holds the dependencies of the handlers.
type Config struct {
	Logger *slog.Logger
	Images ImageSource
	// DefaultFolder is shown when the URL names none.
	DefaultFolder string
	// PageSize is the number of images per page (0 → 100).
	PageSize int64
	// Now is the clock for relative times (nil → time.Now).
	Now func() time.Time
}

// Handlers are the HTTP handlers, as methods sharing the dependencies.
type Handlers struct {
	log           *slog.Logger
	images        ImageSource
	defaultFolder string
	pageSize      int64
	now           func() time.Time
}

// New builds the handlers from cfg.
func New(cfg Config) *Handlers {
	h := &Handlers{
		log:           cfg.Logger,
		images:        cfg.Images,
		defaultFolder: cfg.DefaultFolder,
		pageSize:      cfg.PageSize,
		now:           cfg.Now,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.pageSize <= 0 {
		h.pageSize = 100
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

// upstreamProblem maps a failed cloud call to the HTTP status the page is
// answered with and a message that is safe to show. The error itself (with
// the server's text) is logged, not shown.
func upstreamProblem(err error) (int, string) {
	var ce *cloud.Error
	switch {
	case errors.Is(err, cloud.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "The cloud is not answering right now. Try again in a moment."
	case errors.Is(err, cloud.ErrExhausted):
		return http.StatusServiceUnavailable, "The cloud is limiting our requests right now. Try again in a moment."
	case errors.Is(err, cloud.ErrNotFound):
		return http.StatusNotFound, "The cloud does not know this folder or image."
	case errors.Is(err, cloud.ErrPermission), errors.Is(err, cloud.ErrUnauthenticated):
		return http.StatusBadGateway, "The dashboard's cloud credentials may not read this."
	case errors.Is(err, cloud.ErrInvalid) && errors.As(err, &ce):
		// The API's own validation message is written for people.
		return http.StatusBadRequest, "The cloud refused the request: " + ce.Message
	}
	return http.StatusBadGateway, "The cloud call failed."
}
