"""SIMA's web app (`sima serve`): recruiter dashboard, invitations and the candidate's interview page."""
