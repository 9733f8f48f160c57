module github.com/herald-mqtt/herald

go 1.26.0

require (
	github.com/coder/websocket v1.8.15
	github.com/pires/go-proxyproto v0.15.0
	golang.org/x/time v0.16.0
)

require go.uber.org/goleak v1.3.0
