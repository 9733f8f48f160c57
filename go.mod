module github.com/herald-mqtt/herald

go 1.26
