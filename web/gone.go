package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"

	"github.com/imagedash/imagedash/metrics"
)

// clientGone tells a request that failed because its client went away: it
// closed the tab, the search box aborted it for the next keystroke, the
// connection dropped. Nobody reads an answer to it, so it is not a fault of
// ours: observe records it as 499 (nginx's "client closed request") and
// logs it at debug, and no error page is rendered for it.
//
// net/http cancels a request's context when the client's connection ends
// (its background read hits EOF), when reading the body fails, and when a
// write to the connection fails; so a failed request whose context was
// canceled lost its client. The one exception is a body read past the read
// timeout: the client is still there, waiting for its 408 (answer says
// SlowRequest); and a panic stays a bug whoever was waiting. A write error that says the peer closed or reset the
// connection counts too, whatever the context says.
func clientGone(req *http.Request, err error) bool {
	if err == nil {
		return false
	}
	if _, ok := errors.AsType[*bodyTimeoutError](err); ok {
		return false
	}
	if _, ok := errors.AsType[*panicError](err); ok {
		return false // a bug, whoever was waiting
	}
	if errors.Is(req.Context().Err(), context.Canceled) {
		return true
	}
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

// statusClientGone is the status a request whose client went away is
// counted and logged with.
const statusClientGone = metrics.StatusClientClosedRequest
