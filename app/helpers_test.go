package app_test

import "standing/auth"

func authInput(email string) auth.SignUpInput {
	return auth.SignUpInput{Email: email, Password: "a good long phrase", Role: "buyer", IP: "127.0.0.1"}
}
