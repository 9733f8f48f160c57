package api

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

func TestLoginBootstrapAdmin(t *testing.T) {
	s := testutil.RunServer(t)
	c := client.New(s.APIURL())
	ctx := context.Background()
	res, err := c.Login(ctx, "admin", "public")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if res.Token == "" || res.Role != "administrator" {
		t.Fatalf("login result %+v", res)
	}
	_, err = client.New(s.APIURL()).Login(ctx, "admin", "wrong")
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Code != "BAD_USERNAME_OR_PWD" {
		t.Fatalf("wrong password: %v", err)
	}
}
