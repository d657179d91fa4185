module github.com/ticket-watchdog/watchdog/infra

go 1.26.8

require (
	github.com/hashicorp/hcl/v2 v2.25.0
	github.com/ticket-watchdog/watchdog v0.0.0
	github.com/zclconf/go-cty v1.19.0
	go.yaml.in/yaml/v3 v3.0.6
)

require (
	github.com/agext/levenshtein v1.2.1 // indirect
	github.com/apparentlymart/go-textseg/v15 v15.0.0 // indirect
	github.com/apparentlymart/go-textseg/v17 v17.0.1 // indirect
	github.com/mitchellh/go-wordwrap v1.0.1 // indirect
	github.com/segmentio/asm v1.2.1 // indirect
	github.com/segmentio/encoding v0.5.4 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
)

// The deployment checks read the server's own list of environment variables
// and start its Slack stand-in; they always test the code beside them.
replace github.com/ticket-watchdog/watchdog => ../
