module github.com/waitroom-idp/waitroom

go 1.26.8

require golang.org/x/text v0.40.0 // indirect
