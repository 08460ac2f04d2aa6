package scenario

import (
	"regexp/syntax"

	"github.com/goccy/go-yaml"
)

type yamlSyntaxError = yaml.SyntaxError

type syntaxErr = syntax.Error
