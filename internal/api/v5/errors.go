package v5

import (
	"errors"
	"net/http"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
)

// kinds maps each service sentinel to its status and EMQX's default code
// for it.
var kinds = []struct {
	err    error
	status int
	code   string
}{
	{service.ErrNotFound, http.StatusNotFound, "NOT_FOUND"},
	{service.ErrConflict, http.StatusConflict, "ALREADY_EXISTS"},
	{service.ErrBadRequest, http.StatusBadRequest, "BAD_REQUEST"},
	{service.ErrUnauthorized, http.StatusUnauthorized, "BAD_USERNAME_OR_PWD"},
	{service.ErrForbidden, http.StatusForbidden, "UNAUTHORIZED_ROLE"},
	{service.ErrUnavailable, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE"},
	{service.ErrNotSupported, http.StatusNotImplemented, "NOT_IMPLEMENTED"},
}

// mapError turns a service error into EMQX's status and code: the
// sentinel picks the status, the error's own code (if any) the code.
func mapError(err error) *api.Error {
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			code := service.CodeOf(err)
			if code == "" {
				code = k.code
			}
			var se *service.Error
			msg := err.Error()
			if errors.As(err, &se) {
				msg = se.Msg
			}
			return &api.Error{Status: k.status, Code: code, Message: msg}
		}
	}
	return &api.Error{Status: http.StatusInternalServerError, Code: "INTERNAL_ERROR", Message: err.Error()}
}
