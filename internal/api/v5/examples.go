package v5

// The examples of the route table name a fixture TestOpenAPIExamples
// (test/api) sets up before each request: a connected client subscribed
// to example/#, a retained message, an API key, a dashboard user, a ban
// and a listener, all on the node exampleNode.
const (
	exampleNode     = "herald@127.0.0.1"
	exampleClient   = "example-client"
	exampleKey      = "example-key"
	exampleUser     = "example_user"
	exampleListener = "tcp:example"
	exampleRetained = "example/retained"
	exampleBanned   = "example-banned"
)

// kv builds a parameter map from name, value pairs.
func kv(pairs ...string) map[string]string {
	m := make(map[string]string, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

type obj = map[string]any

// Error code sets shared by several routes.
var (
	clientErrs    = map[int][]string{404: {"CLIENTID_NOT_FOUND"}}
	nodeErrs      = map[int][]string{404: {"NOT_FOUND"}}
	userErrs      = map[int][]string{404: {"USER_NOT_FOUND"}, 400: {"NOT_ALLOWED"}}
	lnErrs        = map[int][]string{404: {"BAD_LISTENER_ID"}, 400: {"BAD_LISTENER_ID"}}
	noNotFound    = map[int][]string{404: {}}
	subscribeErrs = map[int][]string{404: {"CLIENTID_NOT_FOUND"}, 400: {"INVALID_PARAMETER"}}
	publishErrs   = map[int][]string{400: {"BAD_TOPIC"}}
	lnCodes       = map[string]string{"id": "BAD_LISTENER_ID"}
	topicCodes    = map[string]string{"topic": "INVALID_PARAMETER"}
)
