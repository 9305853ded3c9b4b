"""Cases (办不成事, complaints, bad-rating follow-ups) and service ratings in Redis (docs/cases.md)."""
