package httpapi

import (
	"net/http"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// awsText is the status and wording the AWS solution used for one code on
// one path.
type awsText struct {
	status int
	text   string
}

// awsTexts rewrites domain errors into the AWS answers of one path; codes
// it does not list keep the answer of web's table.
type awsTexts map[waitroom.Code]awsText

func (t awsTexts) wrap(err error) error {
	if err == nil {
		return nil
	}
	code := waitroom.ErrorCode(err)
	at, ok := t[code]
	if !ok {
		return err
	}
	return &web.Problem{Status: at.status, Text: at.text, Code: string(code), Message: waitroom.ErrorMessage(err), Cause: err}
}

// notFound is a 404 for a path or resource of this API.
func notFound(message string) error {
	return &web.Problem{Status: http.StatusNotFound, Code: string(waitroom.CodeNotFound), Message: message}
}
