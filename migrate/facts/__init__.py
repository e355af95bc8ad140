"""What a repository says about itself, beyond any one file: the images it builds, its Helm
charts' template evidence, its kustomize graph, its GitLab CI includes. Each fact is computed
once per run through `Repo.memo`; the context never imports this package."""
