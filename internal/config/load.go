package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts every environment variable Load reads.
const EnvPrefix = "HERALD_"

// Load builds the configuration: Default(), then the file named by
// --config (TOML or YAML by extension), then HERALD_ variables from
// environ, then --set and the shortcut flags from args in order, then
// Validate. args is os.Args[1:] minus any subcommand. Every error found is
// reported, joined with errors.Join, and the Config is then the zero value;
// -h/--help prints the usage to stdout and returns ErrHelp.
func Load(args []string, environ []string) (Config, error) {
	return load(args, environ, os.Stdout)
}

// load is Load with the usage output injected.
func load(args, environ []string, out io.Writer) (Config, error) {
	cl, err := parseFlags(args, out)
	if err != nil {
		return Config{}, err
	}
	c := Default()
	var errs []error
	if cl.path != "" {
		errs = append(errs, loadFile(&c, cl.path)...)
	}
	errs = append(errs, applyEnv(&c, environ)...)
	for _, s := range cl.sets {
		if err := apply(&c, s.key, s.value, s.src); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// applyEnv applies the HERALD_ variables in environ, in order.
func applyEnv(c *Config, environ []string) []error {
	var errs []error
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		rest, ok := strings.CutPrefix(name, EnvPrefix)
		if !ok {
			continue
		}
		if err := apply(c, EnvKey(rest), value, "env "+name); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// EnvKey maps an environment variable name without its HERALD_ prefix to
// a key path: lower case, "__" between levels (MQTT__MAX_PACKET_SIZE ->
// mqtt.max_packet_size).
func EnvKey(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, "__", "."))
}

// EnvName is the variable that sets key: HERALD_ + upper case, "__"
// between levels.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "__"))
}

// loadFile reads a TOML or YAML file into c.
func loadFile(c *Config, path string) []error {
	data, err := os.ReadFile(path)
	if err != nil {
		return []error{fmt.Errorf("%w: %w", ErrFile, err)}
	}
	tree, err := decodeFile(path, data)
	if err != nil {
		return []error{fmt.Errorf("%w: %s: %w", ErrFile, path, err)}
	}
	return walk(c, tree, "", path)
}

// decodeFile parses data by the file's extension.
func decodeFile(path string, data []byte) (map[string]any, error) {
	tree := map[string]any{}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".toml":
		if err := toml.Unmarshal(data, &tree); err != nil {
			return nil, err
		}
	case ".yaml", ".yml":
		if err := yaml.Unmarshal(data, &tree); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unsupported extension %q (want .toml, .yaml or .yml)", ext)
	}
	return tree, nil
}

// walk applies a decoded table whose path is prefix.
func walk(c *Config, m map[string]any, prefix, src string) []error {
	var errs []error
	for _, k := range sortedKeys(m) {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		errs = append(errs, walkKey(c, key, m[k], src)...)
	}
	return errs
}

// walkKey applies one decoded value at key.
func walkKey(c *Config, key string, v any, src string) []error {
	kd := classify(key)
	switch kd {
	case kindScalar:
		return walkScalar(c, key, v, src)
	case kindList:
		return errList(setList(c, key, v, src))
	case kindSection, kindListener:
		m, ok := asMap(v)
		if !ok {
			return []error{invalid(key, fmt.Errorf("is a section; want a table, got %s", describe(v)), src)}
		}
		if kd == kindListener {
			if err := ensureListener(c, key, src); err != nil {
				return []error{err}
			}
		}
		return walk(c, m, key, src)
	}
	return []error{unknown(key, src)}
}

// walkScalar applies a decoded scalar.
func walkScalar(c *Config, key string, v any, src string) []error {
	s, ok := scalarString(v)
	if !ok {
		return []error{invalid(key, fmt.Errorf("want a single value, got %s", describe(v)), src)}
	}
	return errList(apply(c, key, s, src))
}

// errList wraps a possibly-nil error as a slice.
func errList(err error) []error {
	if err == nil {
		return nil
	}
	return []error{err}
}

// setting is one key=value from the command line.
type setting struct {
	key, value, src string
}

// cmdline is the parsed command line.
type cmdline struct {
	path string
	sets []setting
}

// setFlag collects --set key=value.
type setFlag struct{ sets *[]setting }

func (f setFlag) String() string { return "" }

func (f setFlag) Set(v string) error {
	key, value, ok := strings.Cut(v, "=")
	if !ok {
		return errors.New("want key=value")
	}
	*f.sets = append(*f.sets, setting{key: strings.TrimSpace(key), value: value, src: "flag --set"})
	return nil
}

// keyFlag collects a shortcut flag for one key.
type keyFlag struct {
	key  string
	sets *[]setting
}

func (f keyFlag) String() string { return "" }

func (f keyFlag) Set(v string) error {
	*f.sets = append(*f.sets, setting{key: f.key, value: v, src: "flag --" + f.key})
	return nil
}

// shortcuts are the keys with their own flag.
var shortcuts = []struct{ key, usage string }{
	{"node.name", "node name, name@host"},
	{"node.data_dir", "data directory"},
	{"durability", "sync | async | off"},
	{"log.level", "debug | info | warning | error"},
}

// newFlagSet defines Herald's flags, collecting into cl.
func newFlagSet(cl *cmdline) *flag.FlagSet {
	fs := flag.NewFlagSet("herald", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&cl.path, "config", "", "`PATH` of a herald.toml or herald.yaml file")
	fs.Var(setFlag{&cl.sets}, "set", "set any key, `key=value` (repeatable)")
	for _, s := range shortcuts {
		fs.Var(keyFlag{s.key, &cl.sets}, s.key, "same as --set "+s.key+"=`VALUE`: "+s.usage)
	}
	return fs
}

// parseFlags parses args; on -h/--help it writes the usage to out.
func parseFlags(args []string, out io.Writer) (cmdline, error) {
	var cl cmdline
	fs := newFlagSet(&cl)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = io.WriteString(out, usage(fs))
		return cl, ErrHelp
	case err != nil:
		return cl, flagError(err)
	case fs.NArg() > 0:
		return cl, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	return cl, nil
}

// flagError classifies a flag package error.
func flagError(err error) error {
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
		return &KeyError{Key: "--" + strings.TrimLeft(name, "-"), Kind: ErrUnknownKey,
			Err: errors.New("unknown flag (use --set key=value for any key)")}
	}
	return fmt.Errorf("%w: %w", ErrUsage, err)
}

// usage is the -h text.
func usage(fs *flag.FlagSet) string {
	var b strings.Builder
	b.WriteString("Usage: herald [flags]\n\nFlags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		name, text := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s %s\n    \t%s\n", f.Name, name, text)
	})
	b.WriteString("  -h, --help\n    \tshow this help\n\n")
	b.WriteString("Environment: " + EnvPrefix + "<KEY> with \"__\" between levels, e.g.\n")
	b.WriteString("  " + EnvName("mqtt.max_packet_size") + "=2MB\n")
	b.WriteString("  " + EnvName("listeners.tcp.internal.bind") + "=127.0.0.1:11883\n\n")
	b.WriteString("Precedence: defaults < --config file < environment < flags.\n")
	b.WriteString("Keys and defaults: see herald.example.toml.\n")
	return b.String()
}
