/* vocab: placeholder until its issue lands; see http.h / the issue. */
