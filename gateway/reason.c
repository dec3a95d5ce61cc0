/* reason: placeholder until its issue lands; see reason.h. */
