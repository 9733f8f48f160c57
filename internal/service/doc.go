// Package service is Herald's management service: every query and command
// the management faces (the EMQX 5 REST API, the other dialects, the CLI,
// $SYS request handlers) need, as one typed, context-taking method each,
// returning canonical DTOs and the sentinel errors of errors.go.
//
// Every method is cluster-shaped: it takes an optional node scope, asks each
// node in scope, merges the answers and pages the merged result, so paging
// stays correct when the data comes from several nodes. Today the cluster
// is this node alone (one entry in Service.nodes); the cluster layer adds
// remote nodes behind the same methods without changing any face.
//
// The package owns the management state that is not the broker's: API keys
// and dashboard users (security.go), the ban list's API, alarms and the
// monitor's time series. What it needs from the rest of the node it declares
// as interfaces (Controller) and the composition root implements them.
package service
