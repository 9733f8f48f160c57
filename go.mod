module github.com/herald-mqtt/herald

go 1.26

require (
	github.com/BurntSushi/toml v1.6.0
	go.yaml.in/yaml/v3 v3.0.6
)
