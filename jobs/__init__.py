"""Jobs (roles), their requirements, question banks and rubrics."""
