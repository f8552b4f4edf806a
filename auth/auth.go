// Package auth holds the people-side policy of imagedash: password hashing,
// what each role may do with which folder, the server-side session store
// behind gorilla/sessions, and the login rate limiter. Persistence is the
// store's; auth decides.
package auth
