"""The public site as data, then HTML: shared by live serving and static export."""
